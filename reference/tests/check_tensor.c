/*
 * check_tensor.c - shapes (size, equality, formatting, validation) and the
 * tensor record (allocation, views, reshape, copy, NCHW addressing).
 */
#include "nn/tensor.h"
#include "testutil.h"

#include <stdint.h>

START_TEST(shape_size_is_the_product_of_its_dims)
{
    nn_shape s4 = nn_shape_4d(64, 32, 14, 14);
    nn_shape s3 = nn_shape_3d(3, 5, 7);
    nn_shape s2 = nn_shape_2d(6, 11);
    nn_shape s1 = nn_shape_1d(13);
    nn_shape scalar = { .rank = 0 };
    ck_assert_uint_eq(nn_shape_size(&s4), 64u * 32 * 14 * 14);
    ck_assert_uint_eq(nn_shape_size(&s3), 105);
    ck_assert_uint_eq(nn_shape_size(&s2), 66);
    ck_assert_uint_eq(nn_shape_size(&s1), 13);
    ck_assert_uint_eq(nn_shape_size(&scalar), 1);
}
END_TEST

START_TEST(shape_equal_compares_rank_and_every_dim)
{
    nn_shape a = nn_shape_4d(2, 3, 4, 5);
    nn_shape b = nn_shape_4d(2, 3, 4, 5);
    nn_shape other_last = nn_shape_4d(2, 3, 4, 6);
    nn_shape other_first = nn_shape_4d(1, 3, 4, 5);
    ck_assert(nn_shape_equal(&a, &b));
    ck_assert(!nn_shape_equal(&a, &other_last));
    ck_assert(!nn_shape_equal(&a, &other_first));
    /* Same number of elements, different layout: (6) is not (2, 3), nor is
     * (2, 3) the same as (2, 3, 1). */
    nn_shape flat = nn_shape_1d(6), matrix = nn_shape_2d(2, 3), cube = nn_shape_3d(2, 3, 1);
    ck_assert(!nn_shape_equal(&flat, &matrix));
    ck_assert(!nn_shape_equal(&matrix, &cube));
    /* Dimensions beyond the rank do not matter. */
    nn_shape literal = { .rank = 2, .dims = { 2, 3 } };
    ck_assert(nn_shape_equal(&literal, &matrix));
}
END_TEST

START_TEST(shape_format_writes_a_parenthesised_list)
{
    char text[64];
    nn_shape s4 = nn_shape_4d(64, 32, 14, 14);
    ck_assert_str_eq(nn_shape_format(text, sizeof text, &s4), "(64, 32, 14, 14)");
    nn_shape s2 = nn_shape_2d(128, 10);
    ck_assert_str_eq(nn_shape_format(text, sizeof text, &s2), "(128, 10)");
    nn_shape s1 = nn_shape_1d(7);
    ck_assert_str_eq(nn_shape_format(text, sizeof text, &s1), "(7)");
    nn_shape scalar = { .rank = 0 };
    ck_assert_str_eq(nn_shape_format(text, sizeof text, &scalar), "()");
}
END_TEST

START_TEST(shape_format_truncates_into_a_small_buffer)
{
    /* The canary bytes after the buffer must survive. */
    char text[16];
    memset(text, '#', sizeof text);
    nn_shape s4 = nn_shape_4d(64, 32, 14, 14);
    nn_shape_format(text, 8, &s4);
    ck_assert_str_eq(text, "(64, 32");
    for (size_t i = 8; i < sizeof text; i++)
        ck_assert_int_eq(text[i], '#');
}
END_TEST

START_TEST(shape_format_index_unravels_row_major)
{
    char text[64];
    nn_shape s = nn_shape_4d(2, 3, 5, 7);
    /* ((0*3 + 1)*5 + 4)*7 + 2 = 65 */
    ck_assert_str_eq(nn_shape_format_index(text, sizeof text, &s, 65), "[0, 1, 4, 2]");
    ck_assert_str_eq(nn_shape_format_index(text, sizeof text, &s, 0), "[0, 0, 0, 0]");
    ck_assert_str_eq(nn_shape_format_index(text, sizeof text, &s, 2 * 3 * 5 * 7 - 1),
                     "[1, 2, 4, 6]");
    nn_shape m = nn_shape_2d(4, 10);
    ck_assert_str_eq(nn_shape_format_index(text, sizeof text, &m, 37), "[3, 7]");
    nn_shape v = nn_shape_1d(9);
    ck_assert_str_eq(nn_shape_format_index(text, sizeof text, &v, 8), "[8]");
}
END_TEST

START_TEST(shape_validate_accepts_ordinary_shapes)
{
    nn_error err = { 0 };
    nn_shape s4 = nn_shape_4d(64, 1, 28, 28);
    nn_shape s1 = nn_shape_1d(1);
    nn_shape scalar = { .rank = 0 };
    ck_assert_int_eq(nn_shape_validate(&s4, "input", &err), NN_OK);
    ck_assert_int_eq(nn_shape_validate(&s1, "input", &err), NN_OK);
    ck_assert_int_eq(nn_shape_validate(&scalar, "input", &err), NN_OK);
}
END_TEST

START_TEST(shape_validate_refuses_a_zero_dimension)
{
    nn_error err = { 0 };
    nn_shape s = nn_shape_4d(8, 3, 0, 5);
    ck_assert_int_eq(nn_shape_validate(&s, "weights", &err), NN_ERR_SHAPE);
    ck_assert_int_eq(err.status, NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "weights"));
    ck_assert_ptr_nonnull(strstr(err.message, "dimension 2"));
    ck_assert_ptr_nonnull(strstr(err.message, "zero"));
}
END_TEST

START_TEST(shape_validate_refuses_a_rank_out_of_range)
{
    nn_error err = { 0 };
    nn_shape five = nn_shape_4d(1, 2, 3, 4);
    five.rank = 5;
    ck_assert_int_eq(nn_shape_validate(&five, "batch", &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "batch"));
    ck_assert_ptr_nonnull(strstr(err.message, "rank 5"));
    nn_shape negative = nn_shape_1d(3);
    negative.rank = -1;
    ck_assert_int_eq(nn_shape_validate(&negative, "batch", &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "rank -1"));
}
END_TEST

START_TEST(shape_validate_refuses_a_size_that_overflows)
{
    nn_error err = { 0 };
    /* The element count overflows size_t. */
    nn_shape huge = nn_shape_3d(SIZE_MAX / 2, 2, 2);
    ck_assert_int_eq(nn_shape_validate(&huge, "activations", &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "activations"));
    ck_assert_ptr_nonnull(strstr(err.message, "overflow"));
    /* The element count fits, the byte count does not. */
    nn_shape bytes = nn_shape_2d(SIZE_MAX / 16, 8);
    nn_error_clear(&err);
    ck_assert_int_eq(nn_shape_validate(&bytes, "activations", &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "overflow"));
}
END_TEST

START_TEST(tensor_new_allocates_zeroed_owned_data)
{
    nn_error err = { 0 };
    nn_tensor *t = NULL;
    nn_shape s = nn_shape_4d(2, 3, 4, 5);
    ck_assert_int_eq(nn_tensor_new(&t, &s, &err), NN_OK);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(t->data);
    ck_assert(t->owns_data);
    ck_assert_uint_eq(t->size, 120);
    ck_assert(nn_shape_equal(&t->shape, &s));
    for (size_t i = 0; i < t->size; i++)
        ck_assert(t->data[i] == 0);
    /* The whole buffer is writable (ASan catches a short allocation). */
    nn_tensor_fill(t, (nn_real)1.5);
    ck_assert(t->data[119] == (nn_real)1.5);
    nn_tensor_free(t);
}
END_TEST

START_TEST(tensor_new_refuses_an_invalid_shape_and_sets_out_to_null)
{
    nn_error err = { 0 };
    nn_tensor *t = (nn_tensor *)&err; /* any non-NULL value */
    nn_shape s = nn_shape_2d(4, 0);
    ck_assert_int_eq(nn_tensor_new(&t, &s, &err), NN_ERR_SHAPE);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.message, "dimension 1"));
}
END_TEST

START_TEST(tensor_free_accepts_null)
{
    nn_tensor_free(NULL);
    /* Reaching this line is the assertion; the tensor below makes sure the
     * allocator is still sound after the call. */
    nn_tensor *t = NULL;
    nn_shape s = nn_shape_1d(3);
    ck_assert_int_eq(nn_tensor_new(&t, &s, NULL), NN_OK);
    nn_tensor_free(t);
}
END_TEST

START_TEST(tensor_view_borrows_data_without_owning_it)
{
    nn_real data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (nn_real)i;
    nn_shape s = nn_shape_2d(3, 4);
    nn_tensor view = nn_tensor_view(data, &s);
    ck_assert_ptr_eq(view.data, data);
    ck_assert(!view.owns_data);
    ck_assert_uint_eq(view.size, 12);
    ck_assert(nn_shape_equal(&view.shape, &s));
    /* Writes through the view land in the caller's array. */
    nn_tensor_fill(&view, (nn_real)-2);
    for (int i = 0; i < 12; i++)
        ck_assert(data[i] == (nn_real)-2);
    nn_tensor_zero(&view);
    for (int i = 0; i < 12; i++)
        ck_assert(data[i] == 0);
}
END_TEST

START_TEST(tensor_reshape_keeps_the_data)
{
    nn_tensor *t = NULL;
    nn_shape s = nn_shape_4d(2, 3, 4, 5);
    ck_assert_int_eq(nn_tensor_new(&t, &s, NULL), NN_OK);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = (nn_real)i;
    nn_real *before = t->data;
    nn_shape flat = nn_shape_2d(2, 60);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_tensor_reshape(t, &flat, &err), NN_OK);
    ck_assert(nn_shape_equal(&t->shape, &flat));
    ck_assert_ptr_eq(t->data, before);
    ck_assert_uint_eq(t->size, 120);
    for (size_t i = 0; i < t->size; i++)
        ck_assert(t->data[i] == (nn_real)i);
    nn_tensor_free(t);
}
END_TEST

START_TEST(tensor_reshape_refuses_a_size_change_naming_both_shapes)
{
    nn_tensor *t = NULL;
    nn_shape s = nn_shape_4d(64, 32, 14, 14);
    ck_assert_int_eq(nn_tensor_new(&t, &s, NULL), NN_OK);
    nn_shape wrong = nn_shape_2d(64, 6000);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_tensor_reshape(t, &wrong, &err), NN_ERR_SHAPE);
    ck_assert_int_eq(err.status, NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "(64, 32, 14, 14)"));
    ck_assert_ptr_nonnull(strstr(err.message, "(64, 6000)"));
    /* The tensor is unchanged. */
    ck_assert(nn_shape_equal(&t->shape, &s));
    nn_tensor_free(t);
}
END_TEST

START_TEST(tensor_reshape_refuses_an_invalid_rank)
{
    nn_real data[6] = { 0 };
    nn_shape s = nn_shape_2d(2, 3);
    nn_tensor view = nn_tensor_view(data, &s);
    nn_shape bad = nn_shape_4d(1, 2, 3, 1);
    bad.rank = 5;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_tensor_reshape(&view, &bad, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "rank 5"));
    ck_assert(nn_shape_equal(&view.shape, &s));
}
END_TEST

START_TEST(tensor_copy_copies_equal_shapes)
{
    nn_tensor *a = NULL, *b = NULL;
    nn_shape s = nn_shape_3d(2, 3, 4);
    ck_assert_int_eq(nn_tensor_new(&a, &s, NULL), NN_OK);
    ck_assert_int_eq(nn_tensor_new(&b, &s, NULL), NN_OK);
    for (size_t i = 0; i < a->size; i++)
        a->data[i] = (nn_real)(i * i);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_tensor_copy(b, a, &err), NN_OK);
    ck_assert_ptr_ne(a->data, b->data);
    for (size_t i = 0; i < a->size; i++)
        ck_assert(b->data[i] == (nn_real)(i * i));
    nn_tensor_free(a);
    nn_tensor_free(b);
}
END_TEST

START_TEST(tensor_copy_refuses_a_shape_mismatch)
{
    nn_real src[6] = { 1, 2, 3, 4, 5, 6 };
    nn_real dst[6] = { 0 };
    nn_shape s23 = nn_shape_2d(2, 3), s32 = nn_shape_2d(3, 2);
    nn_tensor source = nn_tensor_view(src, &s23);
    nn_tensor destination = nn_tensor_view(dst, &s32);
    nn_error err = { 0 };
    /* Same size, different shape: still refused. */
    ck_assert_int_eq(nn_tensor_copy(&destination, &source, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "(2, 3)"));
    ck_assert_ptr_nonnull(strstr(err.message, "(3, 2)"));
    for (int i = 0; i < 6; i++)
        ck_assert(dst[i] == 0);
    ck_assert_int_eq(nn_tensor_copy(&destination, &source, NULL), NN_ERR_SHAPE);
}
END_TEST

START_TEST(tensor_at4_addresses_row_major_nchw)
{
    nn_tensor *t = NULL;
    nn_shape s = nn_shape_4d(2, 3, 4, 5);
    ck_assert_int_eq(nn_tensor_new(&t, &s, NULL), NN_OK);
    /* Walk the tensor in NCHW order: the flat offset must count up by one
     * with w fastest and n slowest. */
    size_t expected = 0;
    for (size_t n = 0; n < 2; n++)
        for (size_t c = 0; c < 3; c++)
            for (size_t h = 0; h < 4; h++)
                for (size_t w = 0; w < 5; w++) {
                    nn_real *p = nn_tensor_at4(t, n, c, h, w);
                    ck_assert_uint_eq((size_t)(p - t->data), expected);
                    *p = (nn_real)(1000 * n + 100 * c + 10 * h + w);
                    expected++;
                }
    /* Spot checks against the formula ((n*C + c)*H + h)*W + w. */
    ck_assert(t->data[((1 * 3 + 2) * 4 + 3) * 5 + 4] == (nn_real)1234);
    ck_assert(t->data[((0 * 3 + 1) * 4 + 2) * 5 + 0] == (nn_real)120);
    nn_tensor_free(t);
}
END_TEST

START_TEST(tensor_at4_treats_missing_dims_as_one)
{
    /* A rank-2 shape written as a literal leaves dims[2] and dims[3] at
     * zero; at4 must still address it as (N, D, 1, 1). */
    nn_real data[12] = { 0 };
    nn_shape s = { .rank = 2, .dims = { 3, 4 } };
    nn_tensor view = nn_tensor_view(data, &s);
    ck_assert_ptr_eq(nn_tensor_at4(&view, 2, 3, 0, 0), data + 11);
    ck_assert_ptr_eq(nn_tensor_at4(&view, 1, 0, 0, 0), data + 4);
    nn_shape made = nn_shape_2d(3, 4);
    nn_tensor view2 = nn_tensor_view(data, &made);
    ck_assert_ptr_eq(nn_tensor_at4(&view2, 1, 2, 0, 0), data + 6);
}
END_TEST

Suite *tensor_suite(void);
Suite *tensor_suite(void)
{
    Suite *suite = suite_create("tensor");
    TCase *shapes = tcase_create("shapes");
    tcase_add_test(shapes, shape_size_is_the_product_of_its_dims);
    tcase_add_test(shapes, shape_equal_compares_rank_and_every_dim);
    tcase_add_test(shapes, shape_format_writes_a_parenthesised_list);
    tcase_add_test(shapes, shape_format_truncates_into_a_small_buffer);
    tcase_add_test(shapes, shape_format_index_unravels_row_major);
    tcase_add_test(shapes, shape_validate_accepts_ordinary_shapes);
    tcase_add_test(shapes, shape_validate_refuses_a_zero_dimension);
    tcase_add_test(shapes, shape_validate_refuses_a_rank_out_of_range);
    tcase_add_test(shapes, shape_validate_refuses_a_size_that_overflows);
    suite_add_tcase(suite, shapes);

    TCase *tensors = tcase_create("tensors");
    tcase_add_test(tensors, tensor_new_allocates_zeroed_owned_data);
    tcase_add_test(tensors, tensor_new_refuses_an_invalid_shape_and_sets_out_to_null);
    tcase_add_test(tensors, tensor_free_accepts_null);
    tcase_add_test(tensors, tensor_view_borrows_data_without_owning_it);
    tcase_add_test(tensors, tensor_reshape_keeps_the_data);
    tcase_add_test(tensors, tensor_reshape_refuses_a_size_change_naming_both_shapes);
    tcase_add_test(tensors, tensor_reshape_refuses_an_invalid_rank);
    tcase_add_test(tensors, tensor_copy_copies_equal_shapes);
    tcase_add_test(tensors, tensor_copy_refuses_a_shape_mismatch);
    tcase_add_test(tensors, tensor_at4_addresses_row_major_nchw);
    tcase_add_test(tensors, tensor_at4_treats_missing_dims_as_one);
    suite_add_tcase(suite, tensors);
    return suite;
}
